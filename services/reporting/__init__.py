"""reporting: NAV, performance, risk and attribution per mandate (issue 13; the calculators first)."""
