"""Earlier models re-measured with their own code, so the evaluation table can keep a "before" row."""
