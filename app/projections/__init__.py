"""Read models kept in step with the log, in the same transaction as each append; rebuilt by replay."""
