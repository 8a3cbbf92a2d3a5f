"""The pure domain of wanxiang: jobs, queues, templates, ids, CI times and error codes.

Nothing in this package imports anything else of ours, nor does any I/O.
"""
