"""GET /signin: the page a sign-in link opens; it redeems the code in the URL's fragment. A page shell."""

from postmask_web.pages import page

lambda_handler = page("signin.html")
