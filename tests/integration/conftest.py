"""The end-to-end tests' fixtures (Ray, the whole system on each object store) are in tests/conftest.py, shared with
the console's browser tests (tests/browser/): one Ray and one system per run, whichever directory asks first."""
