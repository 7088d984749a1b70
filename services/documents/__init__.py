"""documents: reads trade confirmations (PDF, text, SWIFT MT515, FIX 4.4) into canonical fields."""
