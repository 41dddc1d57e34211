"""The pipeline: the only code that joins stages to the lake, one module per use case.

- `ingest`: delivered carrier files into the restricted zone (landing, quarantine, manifest);
- `nightly`: a customer's night: detect, pseudonymize into the analytics zone, purge what is due,
  report;
- `purge`: plan and apply retention, and termination at account end;
- `subject`: a person's export and erasure requests.

Callers (the CLI, the flows) bring the storage, the config, the key, the models and the clock.
"""
