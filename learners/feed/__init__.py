"""The feed: a delivery folder of CSV files imported all-or-nothing (DOMAIN.md section 5)."""
