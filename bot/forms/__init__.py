"""The tenant's own feedback forms (面试评价表): Hire's shape and the rubric it becomes (`hire`), the configured
choice of a form by job title and round (`mapping`), syncing them from Hire into the database (`sync`), and which
rubric an assessment uses (`catalogue`, the one place that decides)."""
