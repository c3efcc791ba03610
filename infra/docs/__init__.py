"""The reference pages under docs/, generated from the code (`aidc docs generate`)."""
