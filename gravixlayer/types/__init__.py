"""Response types; one module per service, mirroring `resources/`."""
