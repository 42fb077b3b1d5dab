"""Value functions: :class:`V`, :class:`QTypeI` and :class:`QTypeII`."""

from plugrl.value_functions.q import QTypeI, QTypeII
from plugrl.value_functions.v import V

__all__ = ["QTypeI", "QTypeII", "V"]
