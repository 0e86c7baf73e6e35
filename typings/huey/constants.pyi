# Stored in place of a value where there is none (storages' peek_data, pop_data).
EmptyData: object
