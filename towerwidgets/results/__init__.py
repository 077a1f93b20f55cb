"""What runs produced, shown side by side: comparisons of quick tests (``compare``)."""
