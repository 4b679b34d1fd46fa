import { Injectable } from '@nestjs/common';

/** Lets API handlers and report processing wake the controller early (if it runs here). */
@Injectable()
export class ControllerSignal {
  private listener?: () => void;

  onWake(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  wake(): void {
    this.listener?.();
  }
}
