"""Ray Serve API (FastAPI) and the command line that brings the system up."""
