"""The OMR engine: paper definitions, answer-sheet PDFs and their layout, scan reading. No Django import."""
