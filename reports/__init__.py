"""Monthly snapshots: freeze the figures, render PDF / HTML / XLSX / data."""
