"""Training stages for kzclassify: data → train → evaluate → export."""
