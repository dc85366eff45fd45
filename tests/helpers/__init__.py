"""Helpers shared by the tests: course folders, submissions, data files, servers."""
