"""The gates' harness: a load generator, databases the gates own, and what each service's API
looks like to the gates. Kept apart from the tests so the harness is tested on its own."""
