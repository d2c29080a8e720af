"""Resources mirror the URL space: one module per service prefix."""
