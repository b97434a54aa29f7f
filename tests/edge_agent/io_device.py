"""An in-process Modbus TCP I/O device for tests: the relay module or PLC a horn hangs on.

Coils and holding registers are writable over the wire and read back the same way;
`press(address)` closes a discrete input (a push button wired to the module).
"""

from __future__ import annotations

from pymodbus.client import ModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from tests.edge_agent.panels import ThreadedModbusServer
from tests.support.services import free_port

_SIZE = 64


class IoDevice(ThreadedModbusServer):
    def __init__(self, *, device_id: int = 1) -> None:
        self.port = free_port()
        self.device_id = device_id
        self.refuse: ExcCodes | None = None
        self.discrete: dict[int, bool] = {}
        bits, regs = DataType.BITS, DataType.REGISTERS
        self.device = SimDevice(
            id=device_id,
            simdata=(
                [SimData(0, count=_SIZE, values=False, datatype=bits)],
                [SimData(0, count=_SIZE, values=False, datatype=bits)],
                [SimData(0, count=_SIZE, values=0, datatype=regs)],
                [SimData(0, count=_SIZE, values=0, datatype=regs)],
            ),
            action=self._action,
        )
        self._init_server()
        self._client: ModbusTcpClient | None = None

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: object,
    ) -> ExcCodes | None:
        if self.refuse is not None:
            return self.refuse
        if function_code == 2:  # read discrete inputs: the buttons as wired
            index = address // 16 - start_address  # bits are packed 16 to a word
            word = SimUtils.registersToBits(registers[index : index + 1])
            word[address % 16] = self.discrete.get(address, False)
            registers[index : index + 1] = SimUtils.bitsToRegisters(word)
        return None

    def press(self, address: int, *, closed: bool = True) -> None:
        self.discrete[address] = closed

    # -- reading back what the agent wrote (over the wire, as a technician's tool would) ---

    def _wire(self) -> ModbusTcpClient:
        if self._client is None or not self._client.connected:
            self._client = ModbusTcpClient("127.0.0.1", port=self.port, timeout=2)
            assert self._client.connect()
        return self._client

    def coil(self, address: int) -> bool:
        response = self._wire().read_coils(address, count=1, device_id=self.device_id)
        assert not response.isError(), response
        return bool(response.bits[0])

    def register(self, address: int) -> int:
        response = self._wire().read_holding_registers(address, count=1, device_id=self.device_id)
        assert not response.isError(), response
        return int(response.registers[0])

    def set_coil(self, address: int, value: bool) -> None:
        response = self._wire().write_coil(address, value, device_id=self.device_id)
        assert not response.isError(), response

    # -- life cycle ------------------------------------------------------------------

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        super().stop()
