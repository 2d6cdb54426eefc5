"""Domain services: the rules of Rapport. Plain values and a session in, results out; no Slack."""
