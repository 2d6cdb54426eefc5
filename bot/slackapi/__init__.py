"""Everything that calls Slack outside a listener: the client factory, roles, time
zones and locales."""
