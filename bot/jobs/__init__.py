"""After the 200: the job runner, its retry table, the job kinds and delivery."""
