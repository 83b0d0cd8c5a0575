"""Commands, one module per sub-domain: what a caller asks the jobs service to do.

Each is a `doorstep_shared.commands.Command` and also the request body that carries
it: pydantic checks shapes and bounds (a 422 naming the field); the aggregates
check the rules that need state. The resource a command acts on is a `Target`,
filled from the path. Postings use snake_case spellings of schema.org JobPosting
properties (`employment_type` = employmentType, `base_salary` = baseSalary, ...).
"""
