"""The vector index: exact matrix, graph, persistence."""
