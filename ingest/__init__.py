"""From an exported file to canonical rows: read, find the header, map columns, normalise, validate, load."""
