"""E-mail: MIME parsing, quote and signature split, mail sources."""
