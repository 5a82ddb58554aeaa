"""Pure records: configuration, results and assessments, and their JSON form. No I/O, no concurrency."""
