"""Classification: features, per-head models, thresholds and routing. Text in, labels out."""
