/**
 * A small authoritative DNS server on 127.0.0.1 (UDP, random port) for tests: answers A queries (IPv4
 * addresses) and AAAA queries (IPv6 addresses) for the names it is given, NOERROR with no answer for
 * other types of known names, NXDOMAIN otherwise. The records object is read at every query, so a
 * test may change it while the server runs. Enough for node:dns Resolver with
 * setServers(['127.0.0.1:PORT']), e.g. to test DNS rebinding.
 */
import { createSocket } from 'node:dgram';
import ipaddr from 'ipaddr.js';

export interface DnsServer {
  server: string;
  close(): Promise<void>;
}

function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  for (let length = message[position] ?? 0; length > 0; length = message[position] ?? 0) {
    labels.push(message.subarray(position + 1, position + 1 + length).toString('ascii'));
    position += 1 + length;
  }
  return { name: labels.join('.').toLowerCase(), end: position + 1 };
}

export async function startDnsServer(records: Record<string, string[]>): Promise<DnsServer> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    if (query.length < 12) return;
    const { name, end } = readName(query, 12);
    const type = query.readUInt16BE(end);
    const question = query.subarray(12, end + 4);
    const addresses = records[name.toLowerCase()];
    const answers = (addresses ?? []).filter((address) => (type === 1 && !address.includes(':')) || (type === 28 && address.includes(':')));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (addresses ? 0 : 3), 2); // response, authoritative, RD copied, NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const answerRecords = answers.map((address) => {
      const bytes = ipaddr.parse(address).toByteArray();
      const record = Buffer.alloc(12 + bytes.length);
      record.writeUInt16BE(0xc00c, 0); // pointer to the question name
      record.writeUInt16BE(type, 2); // A or AAAA
      record.writeUInt16BE(1, 4); // IN
      record.writeUInt32BE(60, 6); // TTL
      record.writeUInt16BE(bytes.length, 10);
      Buffer.from(bytes).copy(record, 12);
      return record;
    });
    socket.send(Buffer.concat([header, question, ...answerRecords]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
