"""postmask's web front end: server-rendered page shells (Jinja2) and their static CSS/JS.

The pages hold no user data and this package never talks to AWS: the browser fetches everything from the
JSON API (`/api/...`) with the user's token. Kept free of pydantic, boto3 and the `postmask` store, so a
page function cold-starts with little more than Jinja2.
"""
