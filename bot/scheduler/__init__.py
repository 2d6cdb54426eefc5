"""The background pipeline, one stage a module: `plan` (due sources -> nudges),
`group` (one message per person in working hours, by one "can this go now?" rule),
`compose` (what a DM shows), `delivery` (the outbox sender), `digests` (the weekly
job), `charts`, `notices`; `sweep` runs them in order and `clock` wires it to
APScheduler. `batches` holds what the stages share to work in batches."""
