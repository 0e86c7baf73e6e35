"""The template library: letters/ files loaded into the database and rendered in a sandbox."""
