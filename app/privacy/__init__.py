"""Privacy at rest (issue 15): a copy of the server's disk must not reveal what a supporter
wrote or who they are.

`app.privacy.crypto` holds the pure cryptographic building blocks (keys derived from a letter's
link, field encryption, sealing to a letter's public key, wrapping a letter key with the
instance master key); `app.privacy.master_key` finds the instance master key. Nothing in the
app uses them yet: the models, migration and routes that encrypt letters come next.
"""
