"""Layer 5, results and studies: :class:`EventStudy` runs the steps below and returns immutable results
(abnormal returns, CARs, BHARs, tests, summaries) that save to Parquet and JSON and load again."""
