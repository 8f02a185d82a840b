"""A fake ESP32 serial bootloader on a pty, so the real esptool can run `flash` end to end.

It speaks esptool's SLIP protocol for the commands flashing needs: SYNC, READ_REG/WRITE_REG (a
register file with the ESP32's chip magic, efuses and an SPI controller that answers the flash
JEDEC id), the stub upload (MEM_BEGIN/DATA/END, then "OHAI" like the real flasher stub), SPI_ATTACH,
SPI_SET_PARAMS, CHANGE_BAUDRATE, ERASE_FLASH, FLASH_BEGIN/DATA/END, FLASH_DEFL_BEGIN/DATA/END (zlib)
into a 4 MB flash array and SPI_FLASH_MD5. Every SYNC starts over in ROM mode, as a reset into the bootloader does.
It checks nothing esptool does not need; it is the chip's side of a recorded conversation, made
executable. `chip_magic` lets a test pretend to be another chip.
"""
import hashlib
import os
import select
import struct
import threading
import tty
import zlib

FLASH_SIZE = 4 * 1024 * 1024
ESP32_MAGIC = 0x00F01D83
ESP32S2_MAGIC = 0x000007C6  # what an ESP32-S2 answers: esptool --chip esp32 must refuse it
CHIP_DETECT_MAGIC_REG = 0x40001000
SPI_BASE = 0x3FF42000  # ESP32 SPI1 (flash) controller
SPI_CMD_REG = SPI_BASE + 0x00
SPI_W0_REG = SPI_BASE + 0x80
FLASH_JEDEC_ID = 0x164020  # XMC 4 MB (esptool decodes the size from the top byte)
UART_CLKDIV_REG = 0x3FF40014
UART_CLKDIV_40MHZ = 40000000 // 115200  # what a 40 MHz crystal gives at the ROM's 115200 baud


def slip_encode(data):
    return b"\xc0" + data.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


class FakeESP32:
    def __init__(self, chip_magic=ESP32_MAGIC, corrupt=False):
        self.chip_magic = chip_magic
        self.corrupt = corrupt  # flip one written bit: a flash that does not keep what it is given
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.flash = bytearray(b"\xff") * FLASH_SIZE
        self.commands = []  # names of the commands seen, in order (tests read it)
        self.regs = {UART_CLKDIV_REG: UART_CLKDIV_40MHZ}
        self.stub = False
        self.erased = False
        self._defl = None
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self):
        self._stop = True
        self._thread.join(2)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # --- framing ---------------------------------------------------------------------------
    def _serve(self):
        frame, in_frame, escape = bytearray(), False, False
        while not self._stop:
            try:
                if not select.select([self.master], [], [], 0.05)[0]:
                    continue
                data = os.read(self.master, 4096)
            except OSError:
                return
            for b in data:
                if b == 0xC0:
                    if in_frame and frame:
                        self._packet(bytes(frame))
                    frame, in_frame, escape = bytearray(), True, False
                elif in_frame:
                    if escape:
                        frame.append({0xDC: 0xC0, 0xDD: 0xDB}.get(b, b))
                        escape = False
                    elif b == 0xDB:
                        escape = True
                    else:
                        frame.append(b)

    def _reply(self, op, val=0, data=b"", status=b"\x00\x00"):
        body = data + (status if self.stub else status + b"\x00\x00")
        os.write(self.master, slip_encode(struct.pack("<BBHI", 1, op, len(body), val) + body))

    def _fail(self, op, reason=0x05):
        self._reply(op, data=b"", status=bytes([1, reason]))

    # --- commands ------------------------------------------------------------------------------
    def _packet(self, pkt):
        if len(pkt) < 8 or pkt[0] != 0:
            return
        _, op, size, _chk = struct.unpack("<BBHI", pkt[:8])
        data = pkt[8:8 + size]
        name = NAMES.get(op, hex(op))
        self.commands.append(name)
        handler = getattr(self, "_op_" + name.lower(), None)
        if handler is None:
            self._fail(op)
        else:
            handler(op, data)

    def _op_sync(self, op, data):
        self.stub = False  # a SYNC means esptool reset us into the ROM bootloader
        for _ in range(8):  # the ROM answers a SYNC several times
            self._reply(op, val=0x20120707)

    def _op_read_reg(self, op, data):
        (addr,) = struct.unpack("<I", data[:4])
        if addr == CHIP_DETECT_MAGIC_REG:
            value = self.chip_magic
        elif addr == SPI_CMD_REG:
            value = 0  # the SPI user command has completed
        elif addr == SPI_W0_REG:
            value = FLASH_JEDEC_ID
        else:
            value = self.regs.get(addr, 0)
        self._reply(op, val=value)

    def _op_write_reg(self, op, data):
        addr, value, mask, _delay = struct.unpack("<IIII", data[:16])
        self.regs[addr] = (self.regs.get(addr, 0) & ~mask) | (value & mask)
        self._reply(op)

    def _op_get_security_info(self, op, data):
        self._fail(op)  # the original ESP32's ROM does not know this command

    def _op_mem_begin(self, op, data):
        self._reply(op)

    def _op_mem_data(self, op, data):
        self._reply(op)

    def _op_mem_end(self, op, data):
        self._reply(op)
        self.stub = True
        os.write(self.master, slip_encode(b"OHAI"))

    def _op_spi_attach(self, op, data):
        self._reply(op)

    def _op_spi_set_params(self, op, data):
        self._reply(op)

    def _op_change_baudrate(self, op, data):
        self._reply(op)

    def _op_erase_flash(self, op, data):
        if not self.stub:
            return self._fail(op)
        self.flash[:] = b"\xff" * FLASH_SIZE
        self.erased = True
        self._reply(op)

    def _op_flash_begin(self, op, data):
        _erase_size, _blocks, block_size, offset = struct.unpack("<IIII", data[:16])
        self._plain = (offset, block_size)
        self._reply(op)

    def _op_flash_data(self, op, data):
        size, seq, _pad1, _pad2 = struct.unpack("<IIII", data[:16])
        offset, block_size = self._plain
        start = offset + seq * block_size
        self.flash[start:start + size] = data[16:16 + size]
        self._damage(start)
        self._reply(op)

    def _damage(self, at):
        if self.corrupt:
            self.flash[at + 100] ^= 0x01

    def _op_flash_end(self, op, data):
        self._reply(op)

    def _op_flash_defl_begin(self, op, data):
        _erase_size, _blocks, _block_size, offset = struct.unpack("<IIII", data[:16])
        self._defl = (offset, zlib.decompressobj(), bytearray())
        self._reply(op)

    def _op_flash_defl_data(self, op, data):
        size, _seq, _pad1, _pad2 = struct.unpack("<IIII", data[:16])
        offset, z, out = self._defl
        out.extend(z.decompress(data[16:16 + size]))
        self.flash[offset:offset + len(out)] = out
        self._damage(offset)
        self._reply(op)

    def _op_flash_defl_end(self, op, data):
        self._reply(op)

    def _op_spi_flash_md5(self, op, data):
        addr, size = struct.unpack("<II", data[:8])
        digest = hashlib.md5(bytes(self.flash[addr:addr + size])).digest()
        self._reply(op, data=digest if self.stub else digest.hex().encode())


NAMES = {0x02: "FLASH_BEGIN", 0x03: "FLASH_DATA", 0x04: "FLASH_END", 0x05: "MEM_BEGIN", 0x06: "MEM_END",
         0x07: "MEM_DATA", 0x08: "SYNC", 0x09: "WRITE_REG", 0x0A: "READ_REG", 0x0B: "SPI_SET_PARAMS",
         0x0D: "SPI_ATTACH", 0x0F: "CHANGE_BAUDRATE", 0x10: "FLASH_DEFL_BEGIN", 0x11: "FLASH_DEFL_DATA",
         0x12: "FLASH_DEFL_END", 0x13: "SPI_FLASH_MD5", 0x14: "GET_SECURITY_INFO", 0xD0: "ERASE_FLASH"}
