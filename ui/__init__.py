"""What every page shares: the database resource, the language, formatting of numbers."""
