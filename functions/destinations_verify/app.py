"""POST /api/destinations/verify: open a verification link (public: the link's secret is the credential)."""

from postmask import verification
from postmask.api import APIGatewayHttpResolver, errors, install, observed
from postmask.schemas.destinations import VerificationRequest, Verified

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.post(
    "/api/destinations/verify",
    tags=["Destinations"],
    operation_id="verifyDestination",
    summary="Verify a destination with the secret of its link (public)",
    responses=errors(404, 410, 415, 422),
)
def verify_destination(body: VerificationRequest) -> Verified:
    return verification.verify(body.token)


lambda_handler = observed(app)
