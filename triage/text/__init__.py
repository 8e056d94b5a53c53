"""German text handling: normalising, spaCy tokens and lemmas, rule matchers with evidence."""
