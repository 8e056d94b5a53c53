"""Reports for the office: the figures of a year (counts per category and channel, change against
the year before, share settled within the 14-day standard) as HTML with charts, CSV and JSON."""
