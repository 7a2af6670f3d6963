"""GET /users: admins create, list, disable and enable users. A page shell."""

from postmask_web.pages import page

lambda_handler = page("users.html")
