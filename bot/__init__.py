"""Rapport: a Slack relationship copilot for sales teams."""
