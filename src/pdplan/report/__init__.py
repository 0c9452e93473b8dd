"""Reports: terminal tables (rich) and, later, plots. Imported lazily by the CLI."""
