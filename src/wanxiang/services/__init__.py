"""Use cases: submit/get/list/cancel jobs, queues, templates. Handlers call these; these call the store."""
