"""The tickets REST API: customers' own requests and the agent inbox."""
