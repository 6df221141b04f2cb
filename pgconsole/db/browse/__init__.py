"""Reading relations: the catalog, keyset and cursor pages, filters, and export."""
