"""GET /api/health: liveness, public."""

from postmask.api import APIGatewayHttpResolver, install, observed
from postmask.schemas.common import Health

app = APIGatewayHttpResolver(enable_validation=True)
install(app)


@app.get("/api/health", tags=["Health"], operation_id="getHealth", summary="Is the API up?")
def health() -> Health:
    return Health()


lambda_handler = observed(app)
