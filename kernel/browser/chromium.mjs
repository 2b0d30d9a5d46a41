// How every script here starts Chromium: Debian's package (GEOXR_CHROMIUM names
// it), headless, without the sandbox (containers often run as root), and without
// the background services that would reach the network on their own.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.GEOXR_CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
