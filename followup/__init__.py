"""Follow-ups of failed batches and alerts: disposals, retests and objections, recall and
traceability cases, quality credit, blacklist, risk-based sampling plan (issue 5)."""
