"""Broadcasts: one automation run per row of a CSV or JSON Lines file (``service``), the rows
read and checked as a stream (``rows``) and the report of what became of them (``report``)."""
