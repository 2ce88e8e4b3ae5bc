"""Documents GT-Vision hands to people outside it: PDF reports (data-subject reports, purge reports)."""
