"""Public pages: the landing page (what Altaviz does, for whom, measured figures) and pricing."""
